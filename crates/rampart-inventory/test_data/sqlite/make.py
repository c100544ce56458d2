#!/usr/bin/env python3
"""Regenerates the SQLite fixtures with the real SQLite library (Python's sqlite3).

small.sqlite       512-byte pages: interior and leaf table pages, overflow chains,
                   every serial type, a freed page, a second table.
small.expected     what SQLite itself reads back from `t`: rowid|type:value|... per row.
wal.sqlite(-wal)   a WAL-mode copy whose -wal holds committed changes not yet
                   checkpointed (copied while the writing connection is still open).
wal.expected       what SQLite reads from `t` with the WAL applied.
"""
import os, random, shutil, sqlite3, tempfile

here = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(7)

def dump(con):
    lines = []
    for row in con.execute("select rowid, * from t order by rowid"):
        cells = [str(row[0])]
        for v in row[1:]:
            if v is None: cells.append("null:")
            elif isinstance(v, int): cells.append(f"int:{v}")
            elif isinstance(v, float): cells.append(f"real:{v!r}")
            elif isinstance(v, str): cells.append(f"text:{v.encode().hex()}")
            else: cells.append(f"blob:{bytes(v).hex()}")
        lines.append("|".join(cells))
    return "\n".join(lines) + "\n"

def fill(con):
    con.execute("create table t(id integer primary key, a, b)")
    con.execute("create table other(x)")
    values = [None, 0, 1, -1, 127, -128, 300, -70000, 2**23, 2**31 - 1, -2**31, 2**40, -2**47, 2**62, -2**63, 1.5, -0.25]
    for i in range(1, 121):
        size = rng.choice([0, 1, 10, 100, 400, 600, 1200, 3000])
        a = bytes(rng.randrange(256) for _ in range(size))
        b = values[i % len(values)] if i % 3 else "t\u00e9xt-" + "x" * (i * 7 % 700)
        con.execute("insert into t values (?, ?, ?)", (i * 3 - 50, a, b))
        con.execute("insert into other values (?)", (i,))
    con.execute("delete from t where id % 7 = 0")
    con.commit()

path = os.path.join(here, "small.sqlite")
if os.path.exists(path): os.remove(path)
con = sqlite3.connect(path)
con.execute("pragma page_size = 512")
fill(con)
con.execute("vacuum")
open(os.path.join(here, "small.expected"), "w").write(dump(con))
con.close()

with tempfile.TemporaryDirectory() as tmp:
    db = os.path.join(tmp, "wal.sqlite")
    shutil.copy(path, db)
    con = sqlite3.connect(db)
    con.execute("pragma journal_mode = wal")
    con.execute("pragma wal_autocheckpoint = 0")
    con.execute("update t set a = zeroblob(2000) where id % 2 = 0")
    con.execute("delete from t where id > 200")
    con.execute("insert into t values (1000, x'00ff', 'new')")
    con.commit()
    open(os.path.join(here, "wal.expected"), "w").write(dump(con))
    for suffix in ["", "-wal"]:
        shutil.copy(db + suffix, os.path.join(here, "wal.sqlite" + suffix))
    con.close()
