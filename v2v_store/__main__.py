from v2v_store.cli import app

app(prog_name="v2v")
