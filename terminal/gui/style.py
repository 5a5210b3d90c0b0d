"""The app's one stylesheet: warm background, hot-pot red for the main action, large touch targets."""

from __future__ import annotations

RED = "#c0392b"
GREEN = "#1e8449"
INK = "#26221f"
MUTED = "#7a716a"
PAPER = "#f6f2ec"
LINE = "#ddd5cb"

STYLESHEET = f"""
* {{ font-family: "DejaVu Sans"; font-size: 15px; color: {INK}; }}
QMainWindow, QDialog, QWizard {{ background: {PAPER}; }}
QWidget#page {{ background: {PAPER}; }}
QFrame#panel {{ background: white; border: 1px solid {LINE}; border-radius: 10px; }}
QFrame#topbar {{ background: {INK}; }}
QFrame#topbar QLabel {{ color: #f3ece4; }}
QLabel#brand {{ color: white; font-size: 19px; font-weight: bold; }}
QLabel#title {{ font-size: 22px; font-weight: bold; }}
QLabel#subtitle {{ color: {MUTED}; font-size: 14px; }}
QLabel#total {{ font-size: 30px; font-weight: bold; color: {INK}; }}
QLabel#bigmoney {{ font-size: 26px; font-weight: bold; }}
QLabel#short {{ font-size: 26px; font-weight: bold; color: {RED}; }}
QLabel#over {{ font-size: 26px; font-weight: bold; color: {GREEN}; }}
QLabel#change {{ font-size: 26px; font-weight: bold; color: {GREEN}; }}
QLabel#change-banner {{ font-size: 40px; font-weight: bold; color: white; background: {GREEN}; border-radius: 8px;
                        padding: 14px; }}
QFrame#no-shift {{ background: #fdebd0; border: 2px solid #e67e22; border-radius: 10px; }}
QLabel#banner-text {{ font-size: 18px; font-weight: bold; color: {INK}; }}
QLabel#error {{ color: {RED}; font-weight: bold; }}
QLabel#ok {{ color: {GREEN}; font-weight: bold; }}
QLabel#words {{ font-family: "DejaVu Sans Mono"; font-size: 17px; background: white; border: 1px solid {LINE};
                border-radius: 8px; padding: 12px; }}
QPushButton {{ background: white; border: 1px solid {LINE}; border-radius: 8px; padding: 8px 14px; min-height: 30px; }}
QPushButton:hover {{ border-color: {MUTED}; }}
QPushButton:pressed {{ background: #efe7dd; }}
QPushButton:disabled {{ color: #b5aca3; background: #f1ede8; }}
QPushButton#primary {{ background: {RED}; color: white; border: none; font-weight: bold; font-size: 17px; }}
QPushButton#primary:disabled {{ background: #dcaaa4; }}
QPushButton#pay {{ background: {GREEN}; color: white; border: none; font-weight: bold; font-size: 20px;
                   min-height: 56px; }}
QPushButton#pay:disabled {{ background: #a9cdb6; }}
QPushButton#nav {{ background: transparent; color: #f3ece4; border: none; border-radius: 0; padding: 10px 14px;
                   font-size: 16px; font-weight: bold; }}
QPushButton#nav:checked {{ background: {RED}; color: white; font-weight: bold; }}
QPushButton#topaction {{ background: #3a3430; color: #f3ece4; border: none; padding: 6px 12px; }}
QPushButton#item {{ background: white; border: 1px solid {LINE}; border-radius: 10px; padding: 6px;
                    text-align: center; font-size: 15px; min-height: 78px; }}
QPushButton#item:pressed {{ background: #fbe3df; border-color: {RED}; }}
QPushButton#item:disabled {{ color: #b5aca3; }}
QPushButton#key {{ font-size: 22px; font-weight: bold; min-height: 50px; min-width: 64px; }}
QPushButton#quick {{ font-size: 16px; font-weight: bold; min-height: 44px; }}
QDialog#payment QPushButton#key {{ min-height: 34px; padding: 4px; font-size: 20px; }}
QDialog#payment QPushButton#quick {{ min-height: 34px; padding: 6px; }}
QPushButton#quick-armed {{ background: {GREEN}; color: white; border: none; font-size: 16px; font-weight: bold;
                          min-height: 34px; padding: 6px; }}
QPushButton#option {{ font-size: 16px; padding: 8px 12px; }}
QPushButton#option:checked {{ background: {INK}; color: white; border-color: {INK}; font-weight: bold; }}
QPushButton#user {{ font-size: 18px; min-height: 64px; min-width: 150px; }}
QPushButton#user:checked {{ background: {INK}; color: white; }}
QPushButton#danger {{ color: {RED}; border-color: {RED}; }}
QPushButton#small {{ padding: 4px 10px; min-height: 24px; font-size: 14px; }}
QLineEdit, QPlainTextEdit, QSpinBox, QComboBox {{ background: white; border: 1px solid {LINE}; border-radius: 6px;
                                                 padding: 6px; min-height: 28px; }}
QLineEdit:focus, QPlainTextEdit:focus {{ border-color: {RED}; }}
QDialog#denominations QLineEdit {{ font-size: 18px; }}
QLineEdit#pin {{ font-size: 28px; letter-spacing: 8px; qproperty-alignment: AlignCenter; }}
QTabBar::tab {{ background: #ebe4da; border: 1px solid {LINE}; padding: 10px 12px; margin-right: 3px;
               border-top-left-radius: 8px; border-top-right-radius: 8px; font-size: 15px; min-width: 56px; }}
QTabBar::tab:selected {{ background: white; font-weight: bold; border-bottom-color: white; }}
QTableWidget {{ background: white; border: 1px solid {LINE}; border-radius: 8px; gridline-color: #eee7de;
               selection-background-color: #fbe3df; selection-color: {INK}; }}
QHeaderView::section {{ background: #efe8df; border: none; border-bottom: 1px solid {LINE}; padding: 6px;
                       font-weight: bold; }}
QStatusBar {{ background: #ebe4da; border-top: 1px solid {LINE}; }}
QStatusBar QLabel {{ font-size: 13px; padding: 0 6px; }}
QLabel#online {{ color: {GREEN}; font-weight: bold; }}
QLabel#offline {{ color: {RED}; font-weight: bold; }}
QScrollArea {{ border: none; background: transparent; }}
QWidget#grid {{ background: transparent; }}
QFrame#topbar QComboBox {{ background: #3a3430; color: white; font-weight: bold; border: 1px solid #6b625b;
                          border-radius: 6px; padding: 6px 10px; min-width: 104px; min-height: 30px; }}
QComboBox QAbstractItemView {{ background: white; color: {INK}; border: 1px solid {LINE}; outline: none;
                              selection-background-color: {RED}; selection-color: white; font-size: 17px; }}
QComboBox QAbstractItemView::item {{ min-height: 44px; padding: 0 12px; color: {INK}; }}
QComboBox QAbstractItemView::item:selected {{ background: {RED}; color: white; }}
QTabBar QToolButton {{ background: white; border: 1px solid {LINE}; border-radius: 6px; min-width: 40px;
                       min-height: 40px; }}
QTabBar::scroller {{ width: 88px; }}
QLabel#tile {{ background: #1c1a18; border-radius: 8px; color: #d8d0c6; }}
QTextBrowser {{ background: white; border: 1px solid {LINE}; border-radius: 8px; }}
"""
