"""JT/T 808 terminals are looked up by their number as the frame header carries it: leading
zeros dropped, hex digits in lower case, the all-zero number as "0" (one SQL function, the
same rule as ingest's codec.terminal_key). An index on it serves every login; before, each
login scanned the device table.

Revision ID: 0012
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE FUNCTION lawgrid_terminal_key(number text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN coalesce(nullif(ltrim(lower(number), '0'), ''), '0');
CREATE UNIQUE INDEX device_terminal_key ON device (lawgrid_terminal_key(identifier)) WHERE protocol = 'jt808';
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP INDEX device_terminal_key; DROP FUNCTION lawgrid_terminal_key(text);")
