from django.urls import path

from .views import public, staff

# --- Public catalogue ----------------------------------------------------------------------------------------
public_urlpatterns = [
]

# --- Staff workspace (/gestion/) -----------------------------------------------------------------------------
staff_urlpatterns = [
]

urlpatterns = public_urlpatterns + staff_urlpatterns
