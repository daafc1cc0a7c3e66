"""The review queue page: filters, sort and paging (the query itself is queries.py)."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from ..reports import tables
from . import store
from .db import get_db
from .queries import PAGE_SIZES, QueueFilter, queue_page

bp = Blueprint("queue", __name__)

# The columns a reviewer can sort by, as (sort key, word key for the heading).
COLUMNS = (("score", "score"), ("machine", "machine"), ("call", "call"), ("agent", "agent"),
           ("recorded", "date"), ("duration", "length"))


@bp.route("/queue")
def queue():
    conn = get_db()
    check_ids = tables.check_ids(conn)
    flt = QueueFilter.from_args(request.args, check_ids)
    found = queue_page(conn, flt)

    def link(**changes) -> str:
        return url_for(".queue", **flt.args(**changes))

    def sort_link(key: str) -> str:
        order = "desc" if flt.sort == key and flt.order == "asc" else "asc"
        return link(sort=key, order=order, page=1)

    return render_template("queue.html", page=found, flt=flt, link=link, sort_link=sort_link, columns=COLUMNS,
                           page_sizes=PAGE_SIZES, agents=store.agent_ids(conn), batches=store.batch_ids(conn),
                           check_ids=check_ids)
