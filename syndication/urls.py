"""The few URLs of the import side that other servers call: the WebSub callback."""

from django.urls import path

from syndication import views

app_name = "syndication"

urlpatterns = [
    path("websub/callback/<str:token>/", views.websub_callback, name="websub-callback"),
]
