"""Walkthrough in headless Chromium: a template value stays with its variable's name when the
variable boxes are filled again (a prompt edit, Load demo reviews, Load template)."""

import pytest

from tests.e2e.test_browser import SCREENSHOTS, open_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def box(page, name: str):
    """The visible variable box labelled ``name`` (its textarea)."""
    return page.locator("[id^='compare-var']").filter(has_text=name).locator("textarea")


def shown_boxes(page) -> dict[str, str]:
    """{label: value} of the variable boxes a person sees."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll("[id^='compare-var']")]
            .filter(el => el.offsetParent !== null)
            .map(el => [el.querySelector('[data-testid="block-info"]').innerText.trim(),
                        el.querySelector('textarea').value]))"""
    )


def wait_for_boxes(page, labels: list[str]) -> None:
    page.wait_for_function(
        """labels => JSON.stringify([...document.querySelectorAll("[id^='compare-var']")]
            .filter(el => el.offsetParent !== null)
            .map(el => el.querySelector('[data-testid="block-info"]').innerText.trim())) === JSON.stringify(labels)""",
        arg=labels,
        timeout=20_000,
    )


def test_a_typed_value_follows_its_variable_name(running_app):
    with open_page(running_app.url) as page:
        page.get_by_role("tab", name="Compare").click()
        prompt = page.locator("#compare-prompt textarea")
        prompt.fill("Summarise this review in one sentence: {{review}}")
        wait_for_boxes(page, ["review"])
        box(page, "review").fill("Loud but it boils fast.")

        # Load demo reviews: its template asks for {{product}} first, then {{review}}.
        page.locator("#compare-batch").get_by_text("Batch run over a table").click()
        page.locator("#batch-demo").click()
        page.wait_for_function(
            "() => document.querySelector('#compare-prompt textarea').value.includes('{{product}}')", timeout=30_000
        )
        wait_for_boxes(page, ["product", "review"])
        assert shown_boxes(page) == {"product": "", "review": "Loud but it boils fast."}
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "compare-template-values.png"), full_page=True)
        print(f"\nscreenshot: {SCREENSHOTS / 'compare-template-values.png'}")

        # Editing the prompt so the variables swap places moves each value with its name.
        box(page, "product").fill("the Kettle 3000")
        wait_for_boxes(page, ["product", "review"])
        prompt.fill("Review: {{review}}\nProduct: {{product}}")
        wait_for_boxes(page, ["review", "product"])
        assert shown_boxes(page) == {"review": "Loud but it boils fast.", "product": "the Kettle 3000"}

        # Loading the saved demo template back puts the variables in the demo's order again.
        page.locator("#compare-template-name input").fill("Product reviews (demo)")
        page.get_by_role("button", name="Load template").click()
        wait_for_boxes(page, ["product", "review"])
        assert shown_boxes(page) == {"product": "the Kettle 3000", "review": "Loud but it boils fast."}
