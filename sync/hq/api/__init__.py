"""HQ's HTTP layer: the app assembly (app.py), middleware, the error model, request schemas, typed dependencies and
one APIRouter per area under routes/. The domain modules beside it (ingest, writes, reports, auth) do the work."""
