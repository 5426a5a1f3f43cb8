"""Staff booking pages: work queue, case page, email intake."""

urlpatterns: list = []
