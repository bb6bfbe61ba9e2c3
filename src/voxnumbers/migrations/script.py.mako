"""${message}

% if down_revision:
Revision ${up_revision}, after ${down_revision | comma,n}; created ${create_date}.
% else:
Revision ${up_revision}, the first; created ${create_date}.
% endif
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import voxnumbers.db.types

${imports if imports else ""}
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
