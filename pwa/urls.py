from django.urls import path

from pwa import views

urlpatterns = [
    path("favicon.ico", views.favicon, name="favicon"),
]
