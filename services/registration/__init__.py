"""The registration service: events, their programme, participants and their personal tokens.

app.py        the application factory
models.py     tables, a `#:` comment on each column
schemas.py    every request and response model of the API
api/          one blueprint module per area: events, participants, imports, documents, reference
errors.py     how the domain says no (a code and an English msgid, translated by the API)
events.py, participants.py, search.py, exports.py, badges.py
              the operations, without Flask
importing/    spreadsheets: reading, header, mapping, checking, report
regions.py, snils.py, text.py
              the reference list of regions, СНИЛС, folding of names for search
templates/    the badges' HTML and CSS; migrations/: this service's Alembic history
"""
