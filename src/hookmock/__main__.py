from hookmock.cli import run

run()
