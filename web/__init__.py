"""Templates and static files of the pages, and the page routes."""
