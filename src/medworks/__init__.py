"""MedWorks Booking Desk."""
