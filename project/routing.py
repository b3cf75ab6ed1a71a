"""Websocket routes. The alert consumer arrives with the notifications issue."""

websocket_urlpatterns: list = []
