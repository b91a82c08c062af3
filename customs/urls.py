from django.urls import path

from customs import views

app_name = "customs"

urlpatterns = [
    path("customs/documents/<int:pk>/", views.document_download, name="document-download"),
]
