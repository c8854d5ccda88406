"""One scanner per model format: ``scan(ctx, src, member, name, depth) -> format label``."""
