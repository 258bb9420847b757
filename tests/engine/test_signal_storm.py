"""5,000 cross-thread signal emits are delivered and the interpreter survives.

PySide6 6.12.0 on Python 3.11 aborts the whole process ("Fatal Python error: bool_dealloc") after
about 570 queued emits, which is why pyproject.toml pins PySide6 below 6.12. The storm runs in a
subprocess so that an abort fails this test instead of killing pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

STORM = textwrap.dedent("""
    import functools, sys
    from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot
    from workbench.engine.worker import GeneratorWorker

    N = 5000
    app = QCoreApplication(sys.argv)

    class Emitter(QThread):
        ping = Signal(int, bool, object, str)

        def run(self):
            for i in range(N):
                self.ping.emit(i, i % 2 == 0, {"i": i}, "x")

    class Sink(QObject):
        def __init__(self):
            super().__init__()
            self.signals = 0
            self.events = []
            self.result = None

        @Slot(int, bool, object, str)
        def on_ping(self, i, flag, payload, text):
            assert flag == (i % 2 == 0) and payload["i"] == i
            self.signals += 1
            self.maybe_quit()

        @Slot(object)
        def on_batch(self, batch):
            self.events.extend(batch)

        @Slot(object)
        def on_returned(self, result):
            self.result = result
            self.maybe_quit()

        def maybe_quit(self):
            if self.signals == N and self.result is not None:
                app.quit()

    def gen(n):
        for i in range(n):
            yield (i, i % 2 == 0)
        return n

    sink = Sink()
    emitter = Emitter()
    emitter.ping.connect(sink.on_ping)
    worker = GeneratorWorker(functools.partial(gen, N), interval_ms=1)
    worker.yielded.connect(sink.on_batch)
    worker.returned.connect(sink.on_returned)
    QTimer.singleShot(60_000, lambda: app.exit(3))
    emitter.start()
    worker.start()
    code = app.exec()
    emitter.wait()
    worker.wait()
    print(f"signals={sink.signals} events={len(sink.events)} result={sink.result} code={code}")
    sys.exit(code)
""")


def test_signal_storm_survives():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", STORM], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-2000:]}"
    assert "signals=5000 events=5000 result=5000 code=0" in proc.stdout
    assert "QThread" not in proc.stderr, proc.stderr
