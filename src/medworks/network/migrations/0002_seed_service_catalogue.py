"""Seed the service catalogue with the services insurers most often ask for."""

import re
import unicodedata

from django.db import migrations

SERVICES = [
    # code, English, French, category
    ("GP", "General practitioner visit", "Consultation avec un médecin généraliste", "consultation"),
    ("SPECIALIST", "Specialist consultation", "Consultation avec un spécialiste", "consultation"),
    ("IME", "Independent medical examination", "Expertise médicale indépendante", "assessment"),
    ("PARAMED", "Paramedical exam", "Examen paramédical", "assessment"),
    ("FCE", "Functional capacity evaluation", "Évaluation des capacités fonctionnelles", "assessment"),
    ("PSYCH", "Psychological assessment", "Évaluation psychologique", "assessment"),
    ("IMMIGRATION", "Immigration medical exam", "Examen médical aux fins de l'immigration", "assessment"),
    ("XRAY", "X-ray", "Radiographie", "imaging"),
    ("ULTRASOUND", "Ultrasound", "Échographie", "imaging"),
    ("MRI", "MRI", "IRM", "imaging"),
    ("CT", "CT scan", "Tomodensitométrie", "imaging"),
    ("MAMMO", "Mammography", "Mammographie", "imaging"),
    ("BMD", "Bone density scan", "Ostéodensitométrie", "imaging"),
    ("BLOOD", "Blood test", "Prélèvement sanguin", "laboratory"),
    ("URINE", "Urinalysis", "Analyse d'urine", "laboratory"),
    ("DRUGTEST", "Drug and alcohol test", "Dépistage de drogues et d'alcool", "laboratory"),
    ("TB", "Tuberculosis skin test", "Test cutané à la tuberculine", "laboratory"),
    ("ECG", "Electrocardiogram (ECG)", "Électrocardiogramme (ECG)", "assessment"),
    ("STRESS", "Cardiac stress test", "Épreuve d'effort", "assessment"),
    ("HOLTER", "Holter monitor", "Moniteur Holter", "assessment"),
    ("SPIRO", "Spirometry", "Spirométrie", "assessment"),
    ("AUDIO", "Hearing test", "Audiogramme", "assessment"),
    ("VISION", "Eye examination", "Examen de la vue", "assessment"),
    ("DENTAL", "Dental examination", "Examen dentaire", "consultation"),
    ("PHYSIO", "Physiotherapy", "Physiothérapie", "rehabilitation"),
    ("CHIRO", "Chiropractic treatment", "Traitement chiropratique", "rehabilitation"),
    ("MASSAGE", "Massage therapy", "Massothérapie", "rehabilitation"),
    ("OT", "Occupational therapy", "Ergothérapie", "rehabilitation"),
    ("VACCINE", "Vaccination", "Vaccination", "other"),
    ("WOUND", "Wound care", "Soins des plaies", "other"),
]


def _key(text):
    # Same folding as medworks.network.text.name_key, frozen here as migrations must be.
    bare = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    return re.sub(r"[^a-z0-9]+", " ", bare.casefold()).strip()[:200]


def seed(apps, schema_editor):
    Service = apps.get_model("network", "Service")
    for code, en, fr, category in SERVICES:
        Service.objects.update_or_create(
            code=code,
            defaults={"name_en": en, "name_fr": fr, "category": category, "name_key": _key(en)},
        )


class Migration(migrations.Migration):
    dependencies = [("network", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
