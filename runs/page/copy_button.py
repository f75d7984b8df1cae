"""A button that copies a text to the clipboard in the browser (no server round trip: the clipboard is the
browser's). ipyvue refuses inline ``onclick`` attributes, so the copy runs in a Vue method."""

from __future__ import annotations

import ipyvuetify as v
import traitlets


class CopyButton(v.VuetifyTemplate):
    """``text``: what the button copies; ``label``: the button's text. Shows "copied" for two seconds after."""

    text = traitlets.Unicode("").tag(sync=True)
    label = traitlets.Unicode("Copy").tag(sync=True)
    template = traitlets.Unicode("""
<template>
    <v-btn small text color="primary" class="tm-copy" @click="copy">
        <v-icon left small>mdi-content-copy</v-icon>{{ copied ? "copied" : label }}
    </v-btn>
</template>
<script>
module.exports = {
    data() { return {copied: false}; },
    methods: {
        async copy() {
            try {
                await navigator.clipboard.writeText(this.text);
            } catch (e) {  // no clipboard permission (plain http on another host): select the text instead
                const area = document.querySelector('.tm-command textarea');
                if (area) { area.focus(); area.select(); }
                return;
            }
            this.copied = true;
            setTimeout(() => { this.copied = false; }, 2000);
        },
    },
}
</script>""").tag(sync=True)
