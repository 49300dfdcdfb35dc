"""The partner REST API under /api/v1/ (Django REST Framework viewsets)."""

urlpatterns = []
