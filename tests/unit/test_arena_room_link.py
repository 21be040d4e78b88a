"""The join link the room view shows: built from the address the facilitator's page was reached at."""

from components.arena_room import join_link, qr_image


def test_the_link_follows_the_host_the_page_was_opened_at():
    link, note = join_link({"host": "192.168.1.20:7860"}, "http", "K7P2QX")
    assert (link, note) == ("http://192.168.1.20:7860/rate?code=K7P2QX", "")


def test_a_proxy_s_forwarded_host_and_scheme_win():
    headers = {"Host": "127.0.0.1:7860", "X-Forwarded-Host": "arena.example.org", "X-Forwarded-Proto": "https"}
    assert join_link(headers, "http", "AB12CD")[0] == "https://arena.example.org/rate?code=AB12CD"


def test_opened_on_this_computer_the_link_uses_its_network_address():
    link, note = join_link({"host": "localhost:7860"}, "http", "AB12CD", lan="10.0.0.7")
    assert link == "http://10.0.0.7:7860/rate?code=AB12CD" and "10.0.0.7" in note and "--host 0.0.0.0" in note
    link, note = join_link({"host": "[::1]:8080"}, "http", "AB12CD", lan=None)
    assert link == "http://[::1]:8080/rate?code=AB12CD" and "cannot use this link" in note


def test_the_qr_code_is_an_image_big_enough_to_project():
    image = qr_image("http://10.0.0.7:7860/rate?code=AB12CD")
    assert image.size[0] == image.size[1] >= 12 * 29  # version 3 + border, 12 px a module
