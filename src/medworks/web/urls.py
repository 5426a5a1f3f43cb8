from django.urls import path

from . import urls_bookings_portals, urls_bookings_staff, urls_documents
from .views import auth, directory, find, portals, transfer

app_name = "web"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    # Insurer and clinic portals
    path("portal/", portals.portal_home, name="portal_home"),
    path("clinic/", portals.clinic_home, name="clinic_home"),
    # Staff back office
    path("staff/", directory.staff_home, name="staff_home"),
    path("staff/partners/", directory.partner_list, name="partner_list"),
    path("staff/partners/<int:partner_id>/", directory.partner_detail, name="partner_detail"),
    path("staff/partners/<int:partner_id>/edit/", directory.partner_edit, name="partner_edit"),
    path(
        "staff/partners/<int:partner_id>/active/",
        directory.partner_set_active,
        name="partner_set_active",
    ),
    path(
        "staff/partners/<int:partner_id>/locations/new/",
        directory.location_create,
        name="location_create",
    ),
    path("staff/locations/<int:location_id>/edit/", directory.location_edit, name="location_edit"),
    path(
        "staff/locations/<int:location_id>/services/add/",
        directory.offering_add,
        name="offering_add",
    ),
    path(
        "staff/offerings/<int:offering_id>/price/", directory.offering_price, name="offering_price"
    ),
    path(
        "staff/offerings/<int:offering_id>/active/",
        directory.offering_set_active,
        name="offering_set_active",
    ),
    path("staff/find/", find.find_clinic, name="find_clinic"),
    path("staff/import/", transfer.directory_import_page, name="directory_import"),
    path("staff/export.xlsx", transfer.directory_export, name="directory_export"),
]

# Booking requests: the staff case pages and the insurer and clinic portal pages.
urlpatterns += urls_bookings_staff.urlpatterns + urls_bookings_portals.urlpatterns

# Paperwork: documents, GOPs, uploads and downloads, access history.
urlpatterns += urls_documents.urlpatterns
