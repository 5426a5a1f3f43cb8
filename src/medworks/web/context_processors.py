from medworks.accounts.permissions import capabilities_of


def navigation(request):
    """What the signed-in user may do, for menus and buttons (the same answers views enforce)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can": frozenset()}
    if getattr(request, "two_factor_pending", False):  # signed in, second factor still owed
        return {"can": frozenset()}
    return {"can": frozenset(c.value for c in capabilities_of(user))}
