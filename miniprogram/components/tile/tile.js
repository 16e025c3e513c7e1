// One entry on a grid. Emits `select` with {name, ready}; the page decides what happens.
Component({
  properties: {
    name: { type: String, value: '' },
    title: { type: String, value: '' },
    icon: { type: String, value: '' },
    color: { type: String, value: '#07c160' },
    ready: { type: Boolean, value: true },
  },
  methods: {
    onTap() {
      this.triggerEvent('select', { name: this.data.name, ready: this.data.ready });
    },
  },
});
