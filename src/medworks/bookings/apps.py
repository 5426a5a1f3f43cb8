from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "medworks.bookings"
    label = "bookings"
