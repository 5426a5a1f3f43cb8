from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "medworks.documents"
    label = "documents"
