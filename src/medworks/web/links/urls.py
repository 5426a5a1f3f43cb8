"""Signed one-click links from emails: no login, the token is checked, GET never acts."""

from django.urls import path

from . import clinic, quote, views

urlpatterns: list = [
    path("links/offer/<str:token>/", views.offer_link, name="offer_link"),
    path("links/quote/<str:token>/", quote.quote_link, name="quote_link"),
    path("links/clinic/<str:token>/", clinic.clinic_link, name="clinic_link"),
]
