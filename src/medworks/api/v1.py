"""JSON API v1 (Django Ninja). OpenAPI at /api/v1/openapi.json."""

from ninja import NinjaAPI

api = NinjaAPI(title="MedWorks Booking Desk API", version="1", urls_namespace="api-v1")
