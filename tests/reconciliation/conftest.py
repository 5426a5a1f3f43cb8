"""Case 4's people and its pre-paid order, as the payments tests have them."""

from tests.payments.conftest import ceo, chief, insurer, prepaid_case, prepaid_clinic

__all__ = ["ceo", "chief", "insurer", "prepaid_case", "prepaid_clinic"]
