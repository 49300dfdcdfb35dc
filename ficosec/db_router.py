"""Read replicas: reads go to a replica, writes to the primary (`default`).

Rule: inside a transaction (atomic block) every read stays on the primary, so a request that writes and then reads
sees its own writes; outside, reads are spread over the replicas. Replication lag is acceptable for public reads.
"""

import random

from django.conf import settings
from django.db import connections


def replicas():
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if connections["default"].in_atomic_block:
            return "default"
        return random.choice(replicas()) or "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every alias holds the same data

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"
