"""Staff booking pages: work queue, case page, email intake."""

from django.urls import path

from .views import api_keys

urlpatterns: list = [
    # Insurers' API keys (the key id is posted, so no URL names a key).
    path("staff/api-keys/", api_keys.api_key_list, name="api_keys"),
    path("staff/api-keys/new/", api_keys.api_key_create, name="api_key_create"),
    path("staff/api-keys/revoke/", api_keys.api_key_revoke, name="api_key_revoke"),
]
