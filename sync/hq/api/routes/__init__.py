"""One APIRouter per area: operations, terminals, staff, reports."""
