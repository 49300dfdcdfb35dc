"""Who a history row names, and when a model's history last moved. Shared by both apps (axes and projects) so that
neither imports the other for it."""


def history_user(instance=None, request=None, **kwargs):
    """Who a history row names: the signed-in person, or a staff key's person; an organization's key acts for no
    person (the measurement itself records the key)."""
    explicit = getattr(instance, "_history_user", None)
    if explicit is not None:
        return explicit
    user = getattr(request, "user", None)
    return user if getattr(user, "pk", None) and user.is_authenticated else None


def newest_change_sql(model):
    """SQL for the time of the newest history row of `model` (history_date is indexed): a part of the cache keys of
    what reads it. Callers build their SQL once (functools.cache): simple_history's `model.history` builds a manager
    class on every access (1.3 ms a request)."""
    return f"(SELECT max(history_date) FROM {model.history.model._meta.db_table})"
