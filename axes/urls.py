from django.urls import path

from . import views

urlpatterns = [
    path("ejes/", views.axis_list, name="axis_list"),
    path("ejes/<slug:slug>/", views.axis_detail, name="axis_detail"),
]
