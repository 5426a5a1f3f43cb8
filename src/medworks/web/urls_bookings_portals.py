"""Insurer and clinic portal booking pages, and the one-click email links."""

urlpatterns: list = []
