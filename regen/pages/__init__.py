"""Dashboard pages of the regen app (htmx + plotly): playground, run detail, runs list.

Views parse, authorize, call the domain functions and render; what a page shows about a
run is assembled once in ``regen.pages.runs`` and shared by every page that shows it.
"""
