"""Position retention: partitions whose month lies wholly before a cut-off are dropped by a
function that runs with its owner's rights (the app role owns no table), called by ingest's
daily maintenance.

Revision ID: 0011
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE FUNCTION lawgrid_drop_position_partitions(before timestamptz)
RETURNS text[] LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    part record;
    dropped text[] := '{}';
BEGIN
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'position'::regclass AND c.relname ~ '^position_[0-9]{6}$'
        ORDER BY c.relname
    LOOP
        IF (to_date(substr(part.relname, 10), 'YYYYMM') + interval '1 month') AT TIME ZONE 'UTC' <= before THEN
            EXECUTE format('DROP TABLE %I', part.relname);
            dropped := dropped || part.relname::text;
        END IF;
    END LOOP;
    RETURN dropped;
END $$;
REVOKE ALL ON FUNCTION lawgrid_drop_position_partitions(timestamptz) FROM PUBLIC;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP FUNCTION lawgrid_drop_position_partitions(timestamptz)")
