from django.urls import path

from governance.policies import views

app_name = "policies"

urlpatterns = [
    path("", views.policy_list, name="list"),
    path("new/", views.policy_new, name="new"),
    path("schema.json", views.policy_schema, name="schema"),
    path("<int:pk>/", views.policy_detail, name="detail"),
    path("<int:pk>/delete/", views.policy_delete, name="delete"),
    path("<int:pk>/export/", views.policy_export, name="export"),
    path("exceptions/", views.exception_list, name="exceptions"),
    path("exceptions/request/", views.exception_request_view, name="exception-request"),
    path("exceptions/<int:pk>/decide/", views.exception_decide, name="exception_decide"),
]
