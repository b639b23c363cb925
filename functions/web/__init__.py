"""The citizen web app (issue 13): server-rendered pages over the platform's public API."""
