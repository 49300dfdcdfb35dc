"""Who a history row names. Shared by both apps (axes and projects) so that neither imports the other for it."""


def history_user(instance=None, request=None, **kwargs):
    """Who a history row names: the signed-in person, or a staff key's person; an organization's key acts for no
    person (the measurement itself records the key)."""
    explicit = getattr(instance, "_history_user", None)
    if explicit is not None:
        return explicit
    user = getattr(request, "user", None)
    return user if getattr(user, "pk", None) and user.is_authenticated else None
