"""Rule catalogue of Warden's model-file scanner and the one place findings are built.

Import findings share their rule ids and fingerprint with the other model-file tools
(:mod:`scanners.parsers._modelfile_common`): ``unsafe-import`` (dangerous), ``suspicious-import``
(not allowed, not known dangerous), ``unsafe-operator`` (code-running constructs outside
pickle), ``not-scanned`` (what could not be read completely is never reported clean). Rules
that only Warden has are ``warden-modelscan/<rule>``. ``docs/modelfile-scanner.md`` has the
table; :data:`RULES` is its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scanners.evidence import trim
from scanners.findings import NormalizedFinding
from scanners.fingerprint import make as fingerprint
from scanners.parsers import _modelfile_common as mf
from scanners.taxonomy import ATLAS_UNSAFE_ARTIFACT, OWASP_ML_SUPPLY_CHAIN

TOOL = "warden-modelscan"
REMEDIATION_RESAVE = (
    "Do not load this file. Re-export the weights in a format that cannot run code "
    "(safetensors, or ONNX/GGUF without custom code) from a trusted environment, and load "
    "PyTorch checkpoints with torch.load(weights_only=True)."
)


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    severity: str  # default; some rules vary (see docs)
    what: str
    why: str
    remediation: str


def _r(rule_id: str, severity: str, what: str, why: str, remediation: str) -> Rule:
    return Rule(rule_id, severity, what, why, remediation)


_W = f"{TOOL}/"
RULES: dict[str, Rule] = {
    r.rule_id: r
    for r in (
        _r(
            mf.UNSAFE_IMPORT,
            "critical",
            "A pickle (or a Keras config) imports an object that runs commands or code, "
            "touches files or the network, imports by name, or is a call gadget.",
            "Loading the file imports and usually calls it: the attacker's code runs with "
            "the loader's rights (CWE-502).",
            REMEDIATION_RESAVE,
        ),
        _r(
            mf.SUSPICIOUS_IMPORT,
            "high",
            "An import that is not on the allow-list (exact qualified names) and not known "
            "to be dangerous: standard library, third-party or user code, called or only "
            "imported.",
            "Fail closed: importing it runs its module, and an allow-listed rebuild helper "
            "can call whatever it is handed. Weights need rebuild helpers, containers and "
            "numbers.",
            "Check where the class or function comes from; if it is not yours, do not load "
            "the file. Prefer safetensors for weights.",
        ),
        _r(
            mf.UNSAFE_OPERATOR,
            "critical|high",
            "Code-running constructs outside pickle: Keras Lambda layers, TensorFlow "
            "PyFunc/EagerPyFunc (critical), file-reading/writing graph ops (high).",
            "The model runs Python or touches the file system when it is loaded or called.",
            "Rebuild the model without Lambda layers / Python ops, or load it with "
            "safe_mode=True and review the code first.",
        ),
        _r(
            mf.NOT_SCANNED,
            "high",
            "The file (or a part of it) could not be read completely: malformed or truncated "
            "pickle, unreadable archive member, nesting or size limits.",
            "Loaders accept malformed input that scanners stop on; everything before the "
            "break is still reported, but what follows is unverified.",
            mf.REMEDIATION_NOT_SCANNED,
        ),
        _r(
            _W + "dynamic-global",
            "critical",
            "STACK_GLOBAL whose module or name is computed at load time (not a string).",
            "The import cannot be known statically: only an attacker builds names that way.",
            REMEDIATION_RESAVE,
        ),
        _r(
            _W + "build-on-import",
            "high",
            "BUILD applied to an imported class or function itself (not to an instance).",
            "It sets attributes on a module-level object: a way to patch code at load time.",
            REMEDIATION_RESAVE,
        ),
        _r(
            _W + "extension-code",
            "high",
            "EXT1/EXT2/EXT4: an import through the copyreg extension registry (not on the "
            "allow-list by construction).",
            "The name is resolved through process state the scanner cannot see.",
            REMEDIATION_RESAVE,
        ),
        _r(
            _W + "format-mismatch",
            "high|medium",
            "The content is not the format the file name says (a pickle named .safetensors); "
            "high when the content can run code.",
            "Disguising a pickle as a safe format is how unsafe files get past reviews.",
            "Rename the file after its content, or replace it with a file in the named format.",
        ),
        _r(
            _W + "polyglot",
            "high",
            "The file is a valid pickle and a valid zip at the same time.",
            "Different loaders see different content: a scanner reading one side misses the other.",
            REMEDIATION_RESAVE,
        ),
        _r(
            _W + "zip-anomaly",
            "medium",
            "A zip member whose local header disagrees with the central directory (name), "
            "is flagged encrypted, or cannot be read by Python's zipfile.",
            "PyTorch's reader ignores these fields; other scanners skip such members.",
            "Re-create the archive with a standard tool.",
        ),
        _r(
            _W + "torchscript-code",
            "medium|high",
            "A TorchScript archive carries code; imports of Python modules in it are high.",
            "torch.jit.load compiles and runs the code in the archive.",
            "Load TorchScript only from trusted sources; prefer exporting weights only.",
        ),
        _r(
            _W + "numpy-object-array",
            "medium",
            "A .npy array with object dtype: its data is a pickle (needs allow_pickle=True).",
            "numpy.load(allow_pickle=True) unpickles it; its imports are reported separately.",
            "Store numeric arrays only; load with allow_pickle=False.",
        ),
        _r(
            _W + "keras-custom-object",
            "high",
            "A Keras config refers to a registered custom object (package>Name).",
            "Its code is not in the file: the class must be importable and runs on load, and "
            "the scanner cannot vouch for it.",
            "Check the custom object's source before loading.",
        ),
        _r(
            _W + "keras-external-model",
            "critical",
            "A Keras layer loads a model from outside the file: TFSMLayer (a SavedModel at "
            "filepath), TensorFlow Hub KerasLayer (handle).",
            "The external model's graph runs when this model is loaded; it was not scanned and "
            "safe_mode does not stop it.",
            "Replace the layer with the model's own layers; scan the external model itself.",
        ),
        _r(
            _W + "keras-file-reference",
            "high",
            "A Keras layer's config names a file or URL read at load time: a lookup layer's "
            "vocabulary path, a tokenizer's vocabulary/merges/proto file, or any config "
            "string that is a URL, an absolute path or climbs out with '..'.",
            "Loading reads local files into the model (exfiltration through its outputs) or "
            "fetches content at load time.",
            "Store vocabularies inline (a list) or as assets inside the .keras archive.",
        ),
        _r(
            _W + "onnx-external-data",
            "high",
            "An ONNX tensor's external data location is absolute or escapes the model directory.",
            "Loading reads arbitrary files into the model (CVE-2022-25882 class).",
            "Keep external data files next to the model with relative, plain names.",
        ),
        _r(
            _W + "onnx-custom-domain",
            "medium",
            "An ONNX node uses an operator domain that no standard runtime provides.",
            "Custom operators are native libraries the runtime has to load.",
            "Check which custom-op library the model needs and where it comes from.",
        ),
        _r(
            _W + "gguf-template-injection",
            "critical|high",
            "A GGUF chat template reaches Python internals (dunders, obfuscated names, attr "
            "filter, imports): CVE-2024-34359.",
            "Loaders that render the template without a sandbox run the attacker's code.",
            "Replace the chat template with a known one; render templates in a sandbox.",
        ),
        _r(
            _W + "malformed-file",
            "medium|high",
            "A GGUF, safetensors, ONNX, npy or SavedModel file whose structure is invalid "
            "(header, offsets, overlaps, dtype x shape vs byte ranges).",
            "Parsers disagree on malformed files; hidden or overlapping regions can smuggle data.",
            "Re-export the file with the framework's own writer.",
        ),
        _r(
            _W + "archive-path",
            "high",
            "An archive member with an absolute or ../ path, or a link.",
            "Extracting it writes outside the target directory.",
            "Re-create the archive with plain relative member names.",
        ),
        _r(
            _W + "archive-limit",
            "high",
            "An archive or a member reaches a limit (nesting depth, member count, member or "
            "total size, compression ratio); the finding names the limit and what was not "
            "scanned.",
            "A limit never makes a file pass: what is past it is unverified. Members that can "
            "run code are scanned first, each within its own budget, so padding or a bomb in "
            "one member does not hide another.",
            "Scan the contents separately, or split the archive.",
        ),
        _r(
            _W + "custom-code",
            "medium",
            "A model repository carries Python that loading runs: a file named by a Hugging "
            "Face auto_map (trust_remote_code), a sentence-transformers module, an MLflow "
            "loader_module or python_model, or a file those import. Category model_code.",
            "Loading the model imports and runs this code with the loader's rights.",
            "Read the code (the code-* findings name the risky lines) or load without "
            "trust_remote_code from a revision you reviewed.",
        ),
        _r(
            _W + "remote-code",
            "high",
            "The model's configuration names code that is not in the repository: another "
            "repository's module (repo--module.Class) or a missing file. Category model_code.",
            "Loading fetches and runs code that was not part of what was scanned.",
            "Vendor the code into the repository and scan it, or do not enable trust_remote_code.",
        ),
        _r(
            _W + "code-process",
            "critical",
            "Custom model code runs a process or a shell command (subprocess, os.system, "
            "os.exec*, pty.spawn...). Category model_code.",
            "Loading the model runs commands on the loading machine.",
            "Do not load the model; remove the call from the code.",
        ),
        _r(
            _W + "code-eval",
            "critical",
            "Custom model code evaluates or executes code built at run time (eval, exec, "
            "compile, runpy, code.*). Category model_code.",
            "What runs is not in the file: it can be downloaded, decoded or computed.",
            "Do not load the model; replace eval/exec with plain code.",
        ),
        _r(
            _W + "code-network",
            "high",
            "Custom model code opens network connections or downloads (socket, urllib, "
            "requests, huggingface_hub downloads, torch.hub). Category model_code.",
            "Loading reaches the network: data can leave, code and weights can come in.",
            "Ship every file the model needs in the repository; remove the network call.",
        ),
        _r(
            _W + "code-file-write",
            "high",
            "Custom model code writes, moves or deletes files (open for writing, os.remove, "
            "shutil, Path.write_text, torch.save...). Category model_code.",
            "Loading changes the loading machine's files.",
            "Remove the write, or review what it writes and where.",
        ),
        _r(
            _W + "code-dynamic-import",
            "high",
            "Custom model code imports by a name chosen at run time (importlib, __import__, "
            "getattr on a module with a computed name). Category model_code.",
            "What gets imported is not visible in the code.",
            "Import modules by name at the top of the file.",
        ),
        _r(
            _W + "code-deserialization",
            "high",
            "Custom model code deserialises data that can carry code (pickle, dill, "
            "cloudpickle, marshal, torch.load without weights_only=True, yaml.load without a "
            "safe loader). Category model_code.",
            "The loaded data runs code; it was not necessarily scanned.",
            "Use safetensors, json, torch.load(weights_only=True) or yaml.safe_load.",
        ),
        _r(
            _W + "code-native",
            "high",
            "Custom model code loads native code (ctypes, cffi, torch.ops.load_library, "
            "torch.utils.cpp_extension). Category model_code.",
            "Native libraries run outside Python's control.",
            "Ship native extensions as reviewed packages, not in the model repository.",
        ),
        _r(
            _W + "unsafe-weights-beside-safe",
            "medium",
            "Weights in a format that can run code (pickle, PyTorch .bin/.pt) next to a "
            "safetensors copy, e.g. pytorch_model.bin beside model.safetensors.",
            "Loaders pick the unsafe file in some configurations (use_safetensors=False, "
            "older versions, other tools); it adds risk and nothing else.",
            "Ship only the safetensors.",
        ),
        _r(
            _W + "scan-limit",
            "high",
            "A resource limit of the pickle simulation was reached (stack depth, memo size, "
            "concatenated pickles, nested payloads); the finding names the limit.",
            "A limit never makes a file pass: imports past it are still named (the rest is "
            "skimmed), but calls and nested payloads past it are unverified.",
            "Find out why the file is that large or deep; re-export it as safetensors.",
        ),
        _r(
            _W + "pickle-ambiguity",
            "high",
            "The C and the pure-Python unpicklers read the pickle differently: a FRAME that "
            "announces more bytes than remain, an opcode read across a frame's end, a frame "
            "inside a frame, a text argument only one of them accepts, an import cut by the "
            "end of the data.",
            "Only hand-made pickles do this; scanners that read one way miss what the other "
            "loader runs. Warden reads on the way the loader that goes further does.",
            REMEDIATION_RESAVE,
        ),
    )
}


def location(file_path: str, member: str) -> str:
    return f"{file_path}:{member}" if member else file_path


def make(
    rule_id: str,
    severity: str,
    *,
    file_path: str,
    member: str,
    title: str,
    description: str,
    import_name: str = "",
    key: str = "",
    offset: int | None = None,
    evidence: dict[str, Any] | None = None,
    remediation: str | None = None,
) -> NormalizedFinding:
    """A :class:`NormalizedFinding` with the shared fingerprint and taxonomy."""
    rule = RULES[rule_id]
    f = mf.finding(
        tool=TOOL,
        rule_id=rule_id,
        tool_rule=rule_id,
        title=title,
        severity=severity,
        location=location(file_path, member),
        import_name=import_name,
        key=key,
        raw_severity=severity,
        description=description,
        remediation=remediation or rule.remediation,
        references=["https://atlas.mitre.org/techniques/AML.T0011.000"],
        evidence=evidence,
    )
    # Keep the exact location (split_location would cut a path containing ':').
    f.file_path = file_path
    f.archive_member = member
    f.byte_offset = offset
    return f


def make_code(
    rule_id: str,
    severity: str,
    *,
    file_path: str,
    member: str,
    rel_path: str,
    title: str,
    description: str,
    key: str,
    line: int | None = None,
    evidence: dict[str, Any] | None = None,
) -> NormalizedFinding:
    """A ``model_code`` finding: custom code a model repository runs when it is loaded.
    Fingerprint: ``(model_code, rule id, path inside the repository, key)``; the key names
    the call and its function, not the line, so an edit elsewhere keeps the finding."""
    rule = RULES[rule_id]
    ev: dict[str, Any] = {"tool_rule": rule_id, "path": rel_path}
    ev.update(evidence or {})
    return NormalizedFinding(
        fingerprint=fingerprint("model_code", rule_id, rel_path, key),
        category="model_code",
        tool=TOOL,
        rule_id=rule_id,
        title=title,
        severity=severity,
        description=description,
        raw_severity=severity,
        file_path=file_path,
        archive_member=member,
        line=line,
        atlas=list(ATLAS_UNSAFE_ARTIFACT),
        owasp_ml=[OWASP_ML_SUPPLY_CHAIN],
        references=["https://atlas.mitre.org/techniques/AML.T0011.000"],
        remediation=rule.remediation,
        evidence=trim(ev),
    )
