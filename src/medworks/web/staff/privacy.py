"""The privacy office's pages (Capability.PRIVACY: the Chief of Staff, the Director of
Operations): the breach register, and the access trail of a patient or of a user with its CSV
export (privacy/README.md).

Privacy: a patient is found by a POSTed form (an Order Id, or a name with a date of birth), so
no name or date of birth lands in a URL, the browser's history or the access logs; the trail's
own pages name the patient by record number only. Each view of a trail page and each export is
recorded (`privacy.access_trail_viewed` / `_exported`, with whose trail and how many rows).
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from medworks.accounts.models import User
from medworks.accounts.permissions import Capability
from medworks.bookings.models import Patient
from medworks.core.errors import DomainError
from medworks.privacy import selectors, services
from medworks.privacy.models import BreachRecord

from ..access import actor_of, require_capability
from ..actions import origin_of
from ..forms import add_domain_errors
from .privacy_forms import BreachForm, PatientTrailSearchForm, TrailExportForm, UserTrailSearchForm

PAGE_SIZE = 50


# --- The breach register -------------------------------------------------------------------


@require_safe
@require_capability(Capability.PRIVACY)
def breach_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.breach_records(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/staff/privacy/breaches.html", {"page": page})


@require_http_methods(["GET", "HEAD", "POST"])
@require_capability(Capability.PRIVACY)
def breach_new(request: HttpRequest) -> HttpResponse:
    form = BreachForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            breach = services.breach_record_create(data=form.cleaned_data, actor=actor_of(request))
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            return redirect("web:privacy_breach_detail", breach_id=breach.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "web/staff/privacy/breach_form.html", {"form": form, "breach": None}, status=status
    )


@require_http_methods(["GET", "HEAD", "POST"])
@require_capability(Capability.PRIVACY)
def breach_detail(request: HttpRequest, breach_id: int) -> HttpResponse:
    """One breach's record; its form changes it (a decision taken, a notification made)."""
    breach = get_object_or_404(
        BreachRecord.objects.select_related("recorded_by", "updated_by"), pk=breach_id
    )
    form = BreachForm.of(breach, request.POST if request.method == "POST" else None)
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            breach = services.breach_record_update(
                breach=breach, data=form.cleaned_data, actor=actor_of(request)
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            saved = True
    if saved:
        return redirect("web:privacy_breach_detail", breach_id=breach.pk)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "web/staff/privacy/breach_form.html",
        {"form": form, "breach": breach},
        status=status,
    )


# --- The access trail ----------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@require_capability(Capability.PRIVACY)
def access_trail_search(request: HttpRequest) -> HttpResponse:
    """Whose trail: a patient (POSTed: Order Id, or name and date of birth) or a user."""
    patient_form, user_form, patients = PatientTrailSearchForm(), UserTrailSearchForm(), None
    status = 200
    if request.method == "POST" and request.POST.get("find") == "user":
        user_form = UserTrailSearchForm(request.POST)
        if user_form.is_valid():
            user = selectors.user_find(username=user_form.cleaned_data["username"])
            if user is not None:
                return redirect("web:privacy_user_trail", user_id=user.pk)
            user_form.add_error("username", gettext("No user has this username."))
        status = 400
    elif request.method == "POST":
        patient_form = PatientTrailSearchForm(request.POST)
        if patient_form.is_valid():
            patients = selectors.patients_find(
                order_id=patient_form.cleaned_data["order_id"],
                name=patient_form.cleaned_data["name"],
                date_of_birth=patient_form.cleaned_data["date_of_birth"],
            )
            if len(patients) == 1:
                return redirect("web:privacy_patient_trail", patient_id=patients[0].pk)
            if not patients:
                patient_form.add_error(None, gettext("No patient matches."))
                status = 400
        else:
            status = 400
    return render(
        request,
        "web/staff/privacy/access.html",
        {"patient_form": patient_form, "user_form": user_form, "patients": patients},
        status=status,
    )


def _trail_page(request, *, trail, patient=None, user=None, context):
    page = Paginator(trail, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.trail_rows(page.object_list)
    services.access_trail_record_viewed(
        actor=actor_of(request),
        rows=page.paginator.count,
        page=page.number,
        patient=patient,
        user=user,
        origin=origin_of(request),
    )
    return render(
        request,
        "web/staff/privacy/trail.html",
        {**context, "page": page, "rows": rows, "export_form": TrailExportForm()},
    )


def _export(request, *, trail_of, patient=None, user=None, name: str):
    form = TrailExportForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    until = selectors.trail_until()
    trail = trail_of(until)
    try:
        services.access_trail_record_exported(
            actor=actor_of(request),
            rows=trail.count(),
            until=until,
            patient=patient,
            user=user,
            origin=origin_of(request),
            reason=reason,
        )
    except DomainError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(
        selectors.trail_csv(trail), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}-{until:%Y%m%d-%H%M%S}.csv"'
    return response


def _patient(patient_id: int) -> Patient:
    patient = Patient.objects.select_related("insurer").filter(pk=patient_id).first()
    if patient is None:
        raise Http404("No such patient")
    return patient


@require_safe
@require_capability(Capability.PRIVACY)
def patient_trail(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(patient_id)
    trail = selectors.patient_trail(patient=patient, until=selectors.trail_until())
    return _trail_page(
        request,
        trail=trail,
        patient=patient,
        context={
            "patient": patient,
            "cases": selectors.patient_cases(patient=patient),
            "export_url": reverse("web:privacy_patient_trail_export", args=[patient.pk]),
        },
    )


@require_POST
@require_capability(Capability.PRIVACY)
def patient_trail_export(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(patient_id)
    return _export(
        request,
        trail_of=lambda until: selectors.patient_trail(patient=patient, until=until),
        patient=patient,
        name=f"access-trail-patient-{patient.pk}",
    )


@require_safe
@require_capability(Capability.PRIVACY)
def user_trail(request: HttpRequest, user_id: int) -> HttpResponse:
    subject = get_object_or_404(User.objects.select_related("organisation"), pk=user_id)
    trail = selectors.user_trail(user=subject, until=selectors.trail_until())
    return _trail_page(
        request,
        trail=trail,
        user=subject,
        context={
            "subject": subject,
            "export_url": reverse("web:privacy_user_trail_export", args=[subject.pk]),
        },
    )


@require_POST
@require_capability(Capability.PRIVACY)
def user_trail_export(request: HttpRequest, user_id: int) -> HttpResponse:
    subject = get_object_or_404(User, pk=user_id)
    return _export(
        request,
        trail_of=lambda until: selectors.user_trail(user=subject, until=until),
        user=subject,
        name=f"access-trail-user-{subject.pk}",
    )
