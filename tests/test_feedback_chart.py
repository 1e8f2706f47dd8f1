"""Feedback at a glance: a chart per day, each bar and each rated answer one click away."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chat import models
from tests.test_admin_scale import populate

pytestmark = pytest.mark.django_db


def test_the_chart_counts_feedback_per_day_and_links_to_the_answers(admin_client):
    threads = populate(3)  # each thread: one positive rating on its answer "m1", today
    models.Feedback.objects.filter(thread=threads[2]).update(
        kind="negative", created_at=timezone.now() - timedelta(days=3)
    )
    page = admin_client.get(reverse("admin:chat_feedback_chart")).content.decode()
    assert "2 👍 and 1 👎 in the last 30 days" in page
    assert page.count('<rect class="positive"') == 1 and page.count('<rect class="negative"') == 1
    assert f"{timezone.localdate().isoformat()}: 2 positive" in page
    # A bar opens that day's ratings; a rated answer opens its place in the transcript.
    assert "kind__exact=negative" in page
    answer = reverse("admin:chat_thread_change", args=[threads[0].seq]) + "?item=m1#item-m1"
    assert answer in page
    transcript = admin_client.get(answer).content.decode()
    assert 'id="item-m1"' in transcript and "👍" in transcript
    listing = admin_client.get(reverse("admin:chat_feedback_changelist")).content.decode()
    assert reverse("admin:chat_feedback_chart") in listing and ">text 1</a>" in listing
