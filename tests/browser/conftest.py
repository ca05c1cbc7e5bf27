"""The portal in a real headless browser: Debian's Chromium driven by Selenium through Debian's chromedriver (both
from `scripts/ensure-tools`; Selenium Manager never runs, nothing is downloaded), axe-core for accessibility.

Fixtures (the running system is the integration tests' `system`: `system.start()`, then pages under `system.api`):
- `browser`: a desktop Chrome (window 1280×900), one for the whole session;
- `phone`: a phone (viewport 360×800, device pixel ratio 2, touch, a mobile user agent), one for the session.
  After every test, each browser started is cleared (cookies, storage, cache) and left on about:blank; a failed test
  leaves a screenshot of each browser it used.

Helpers (`from tests.browser.conftest import screenshot, axe, assert_accessible`):
- `screenshot(driver, name) -> Path`: a PNG under the session's screenshot directory (named at the end of the run);
- `axe(driver, context=None, options=None) -> list[dict]`: axe-core's violations on the page as it is now;
- `assert_accessible(driver, context=None, options=None, impacts=("serious", "critical"))`: fails, listing them,
  on any violation of those impacts; returns every violation (the minor ones too).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.integration.conftest import system  # noqa: F401 — the running services, shared with the integration tests

os.environ.setdefault("SE_OFFLINE", "1")   # were Selenium Manager ever reached, it must not download anything

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

CHROMIUM = "/usr/bin/chromium"           # Debian's `chromium`
CHROMEDRIVER = "/usr/bin/chromedriver"   # Debian's `chromium-driver` (the same version)
WINDOW = (1280, 900)
PHONE = {"width": 360, "height": 800, "pixelRatio": 2.0, "touch": True, "mobile": True}
PHONE_AGENT = ("Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/156.0.0.0 Mobile Safari/537.36")

REPO = Path(__file__).resolve().parents[2]
# axe-core, vendored with the portal's assets by scripts/vendor-assets
AXE_SOURCES = (REPO / "services/gateway/pages/static/vendor/axe-core/axe.min.js",)

BROWSER_TESTS = Path(__file__).resolve().parent
_screenshots: Path | None = None   # set by the `_screenshot_dir` fixture
_saved: list[Path] = []
_axe_used: set[str] = set()   # "axe-core <version> (<path>)" of every copy injected
_started: dict[str, webdriver.Chrome] = {}   # the browsers this session started, by fixture name


# ---------------------------------------------------------------------------------------------------- the browsers

def chrome(name: str, *arguments: str, mobile: dict | None = None) -> webdriver.Chrome:
    """A headless Chromium at the Debian paths, started with `arguments` (and phone emulation with `mobile`)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} not found: the browser tests need Debian's chromium and chromium-driver "
                        "(scripts/ensure-tools installs them; `make test` runs it)", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--disable-extensions", "--disable-features=Translate,MediaRouter",
                     *arguments):
        options.add_argument(argument)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")   # Chromium refuses to start sandboxed as root
    if mobile:
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": mobile, "userAgent": PHONE_AGENT})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    _started[name] = driver
    return driver


@pytest.fixture(scope="session")
def browser():
    """A desktop Chrome, window 1280×900 (its viewport: 1280 wide; headless Chrome keeps some height for its
    toolbars)."""
    driver = chrome("browser", f"--window-size={WINDOW[0]},{WINDOW[1]}")
    yield driver
    _started.pop("browser", None)
    driver.quit()


@pytest.fixture(scope="session")
def phone():
    """A phone: viewport 360×800 at device pixel ratio 2, touch, a mobile user agent (Chrome's mobile emulation)."""
    driver = chrome("phone", mobile=PHONE)
    yield driver
    _started.pop("phone", None)
    driver.quit()


@pytest.fixture(scope="session", autouse=True)
def _screenshot_dir(tmp_path_factory):
    global _screenshots
    _screenshots = tmp_path_factory.getbasetemp() / "screenshots"
    yield
    _screenshots = None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"_report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _fresh_browsers(request):
    """After each test: a screenshot of each browser when the test failed, then cookies, storage and cache cleared."""
    yield
    failed = any(getattr(getattr(request.node, f"_report_{when}", None), "failed", False)
                 for when in ("setup", "call"))
    for name, driver in list(_started.items()):
        try:
            if failed:
                screenshot(driver, f"FAILED-{request.node.name}-{name}")
            driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            driver.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": "*", "storageTypes": "all"})
            driver.get("about:blank")
        except Exception as error:   # a broken browser must not hide the test's own result
            print(f"could not clear the {name} browser after {request.node.nodeid}: {error!r}")


def pytest_collection_modifyitems(items):
    for item in items:
        if BROWSER_TESTS in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter):
    if _saved or _axe_used:
        terminalreporter.section("browser tests")
    if _saved:
        terminalreporter.write_line(f"screenshots: {len(_saved)} in {_saved[0].parent}")
    for used in sorted(_axe_used):
        terminalreporter.write_line(f"accessibility: {used}")


# ---------------------------------------------------------------------------------------------------- the helpers

def screenshot(driver, name: str) -> Path:
    """The page as the browser shows it now, as `<name>.png` in the session's screenshot directory (under pytest's
    base temp; the terminal summary names it). Characters outside [A-Za-z0-9._-] in `name` become '_'."""
    directory = _screenshots
    if directory is None:
        raise RuntimeError("screenshot() works in tests under tests/browser (their conftest sets the directory)")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:150] + ".png")
    if not driver.save_screenshot(str(path)):
        raise AssertionError(f"the browser saved no screenshot at {path}")
    _saved.append(path)
    return path


def _axe_source() -> tuple[str, Path]:
    for path in AXE_SOURCES:
        if path.is_file():
            return path.read_text(encoding="utf-8"), path
    raise FileNotFoundError(f"axe.min.js in none of {[str(path) for path in AXE_SOURCES]}")


def axe(driver, context=None, options=None) -> list[dict]:
    """axe-core's violations on the current page (injected when the page has no `axe` yet): `axe.run(context,
    options)`, by default the whole document with axe's default rules. Each violation is axe's own dict: id, impact
    ('minor', 'moderate', 'serious', 'critical'), help, helpUrl, nodes (each with target and html)."""
    if not driver.execute_script("return typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        source, path = _axe_source()
        driver.execute_script(source)
        _axe_used.add(f"axe-core {driver.execute_script('return axe.version')} ({path.relative_to(REPO)})")
    run_options = {"resultTypes": ["violations"], **(options or {})}
    outcome = driver.execute_async_script(
        """const [context, options, done] = arguments;
        axe.run(context || document, options)
          .then(results => done({violations: results.violations}), error => done({error: String(error)}));""",
        context, run_options)
    if "error" in outcome:
        raise RuntimeError(f"axe.run failed on {driver.current_url[:200]}: {outcome['error']}")
    return outcome["violations"]


def describe(violations: list[dict]) -> str:
    """One paragraph per violation: impact, rule, what it asks, and the elements (at most five) that break it."""
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:5]:
            lines.append(f"    {json.dumps(node['target'], ensure_ascii=False)}  {node['html'][:200]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    … and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def assert_accessible(driver, context=None, options=None, impacts=("serious", "critical")) -> list[dict]:
    """axe on the current page; AssertionError listing every violation whose impact is in `impacts`. Returns all
    violations, those of lesser impact too."""
    violations = axe(driver, context, options)
    failing = [violation for violation in violations if violation["impact"] in impacts]
    if failing:
        raise AssertionError(f"{len(failing)} accessibility violation(s) of impact {'/'.join(impacts)} on "
                             f"{driver.current_url[:200]}:\n{describe(failing)}")
    return violations
