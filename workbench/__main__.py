from workbench.launch import main

raise SystemExit(main())
