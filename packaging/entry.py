"""The frozen app's entry script (PyInstaller runs it as `__main__`); all the work is in workbench.launch."""

from workbench.launch import main

raise SystemExit(main())
