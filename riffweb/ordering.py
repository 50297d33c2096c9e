"""Reordering a list the team arranges (the shortlist, a playlist): by drag, or a step up or down.

Both paths post to the same view: a drag sends the whole new order (`order`, every item's id in
turn), the keyboard's buttons send one item and a step (`item`, `move` = "up" or "down").
"""

from django import forms

MAX_ITEMS = 500


class OrderForm(forms.Form):
    item = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    move = forms.ChoiceField(required=False, choices=[("up", "up"), ("down", "down")])

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.order_values = data.getlist("order") if data is not None else []

    def clean(self):
        cleaned = super().clean()
        try:
            order = [int(value) for value in self.order_values]
        except ValueError:
            raise forms.ValidationError("The new order names something that is not in this list.") from None
        if len(order) > MAX_ITEMS or any(not 0 < pk < 2**63 for pk in order):
            raise forms.ValidationError("The new order names something that is not in this list.")
        if not order and not (cleaned.get("item") and cleaned.get("move")):
            raise forms.ValidationError("Send the new order, or an item and which way to move it.")
        cleaned["order"] = order
        return cleaned

    def arrange(self, current: list[int]) -> list[int]:
        """The new order of `current` (ids): as sent, or with one item moved a step."""
        if self.cleaned_data["order"]:
            sent = [pk for pk in self.cleaned_data["order"] if pk in current]
            return sent + [pk for pk in current if pk not in sent]
        item, step = self.cleaned_data["item"], -1 if self.cleaned_data["move"] == "up" else 1
        if item not in current:
            return current
        at = current.index(item)
        to = min(max(at + step, 0), len(current) - 1)
        arranged = current[:]
        arranged[at], arranged[to] = arranged[to], arranged[at]
        return arranged
