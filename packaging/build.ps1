# Build LM Workbench for Windows: dist\lm-workbench\ (the app folder), a .zip of it and the
# Inno Setup installer dist\lm-workbench-VERSION-windows-x64-setup.exe.
#
#   .\packaging\build.ps1           build the folder, the zip and the installer
#   .\packaging\build.ps1 -Check    also run the frozen self-test and print size and first paint
#
# Needs the project installed in the Python on PATH (pip install -e ".[packaging]", CPU torch:
# pip install torch --index-url https://download.pytorch.org/whl/cpu) and Inno Setup 6 (iscc.exe on
# PATH or in its default folder) for the installer.
param([switch]$Check)
$ErrorActionPreference = "Stop"
$Root = Resolve-Path (Join-Path $PSScriptRoot "..")
$Dist = Join-Path $Root "dist"
$Build = Join-Path $Root "build"
$Version = (python -c "import workbench; print(workbench.__version__)").Trim()
$AppId = (python -c "import workbench; print(workbench.APP_ID)").Trim()
$AppDir = Join-Path $Dist $AppId

Write-Host "==> PyInstaller: $AppDir (lm-workbench $Version)"
python -m PyInstaller --noconfirm --clean --log-level WARN --distpath $Dist `
    --workpath (Join-Path $Build "pyinstaller") (Join-Path $Root "packaging\lm-workbench.spec")
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }

$Zip = Join-Path $Dist "$AppId-$Version-windows-x64.zip"
Write-Host "==> archive: $Zip"
if (Test-Path $Zip) { Remove-Item $Zip }
Compress-Archive -Path $AppDir -DestinationPath $Zip -CompressionLevel Optimal

$Iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $Iscc) { $Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
if (Test-Path $Iscc) {
    Write-Host "==> installer (Inno Setup)"
    & $Iscc "/DAppVersion=$Version" "/DSourceDir=$AppDir" "/DOutputDir=$Dist" `
        (Join-Path $Root "packaging\windows\lm-workbench.iss")
    if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
} else {
    Write-Warning "Inno Setup 6 not found: no installer built (install it from jrsoftware.org or with choco install innosetup)"
}

$DiskMB = [math]::Round(((Get-ChildItem $AppDir -Recurse -File | Measure-Object Length -Sum).Sum) / 1MB)
$ZipMB = [math]::Round((Get-Item $Zip).Length / 1MB)
Write-Host "==> $DiskMB MB on disk, $ZipMB MB as $(Split-Path $Zip -Leaf)"

if ($Check) {
    $env:WORKBENCH_HOME = Join-Path $Build "check-home"
    $env:QT_QPA_PLATFORM = "offscreen"
    & (Join-Path $AppDir "workbench.exe") --self-test
    if ($LASTEXITCODE -ne 0) { throw "the frozen self-test failed" }
    Remove-Item Env:QT_QPA_PLATFORM
    python (Join-Path $Root "bench\bench_startup.py") --exe (Join-Path $AppDir "workbench.exe") --runs 5  # the console twin: the windowed one has no stdout
}
