; Inno Setup script: the Windows installer for the one-folder build in dist\lm-workbench.
; Built by packaging\build.ps1 (which passes the version and folders):
;   iscc /DAppVersion=0.1.0 /DSourceDir=..\..\dist\lm-workbench /DOutputDir=..\..\dist packaging\windows\lm-workbench.iss
; - Per-user install, no administrator rights: {localappdata}\Programs, HKCU registry keys only.
; - Start-menu and (optional) desktop shortcuts; an uninstaller in "Installed apps".
; - A project is a folder named *.wbproj. Windows opens folders with Explorer and cannot tie a
;   folder to an app by its extension, so the installer adds "Open in LM Workbench" to the
;   right-click menu of folders whose name ends in .wbproj (AppliesTo), and the app accepts a
;   project.db inside such a folder too.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\lm-workbench"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#define AppName "LM Workbench"
#define AppExe "lm-workbench.exe"

[Setup]
AppId={{6B0F3C4E-7A51-4E7B-9C0D-2F4A8E1B5D93}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=LM Workbench
DefaultDirName={localappdata}\Programs\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=lm-workbench-{#AppVersion}-windows-x64-setup
SetupIconFile=..\icons\lm-workbench.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
LZMANumBlockThreads=4
WizardStyle=modern
ChangesAssociations=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\{#AppName} demo"; Filename: "{app}\{#AppExe}"; Parameters: "--demo"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; "Open in LM Workbench" on *.wbproj folders (per user; removed by the uninstaller).
Root: HKA; Subkey: "Software\Classes\Directory\shell\LMWorkbench.Open"; ValueType: string; ValueName: ""; ValueData: "Open in {#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Directory\shell\LMWorkbench.Open"; ValueType: string; ValueName: "Icon"; ValueData: """{app}\{#AppExe}"",0"
Root: HKA; Subkey: "Software\Classes\Directory\shell\LMWorkbench.Open"; ValueType: string; ValueName: "AppliesTo"; ValueData: "System.FileName:""*.wbproj"""
Root: HKA; Subkey: "Software\Classes\Directory\shell\LMWorkbench.Open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; The app as a handler of project.db files ("Open with" on the database inside a project).
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Parameters: "--demo"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only what the app writes beside itself; projects, settings and logs of the user stay.
Type: filesandordirs; Name: "{app}\_internal\__pycache__"
