// Empty or error state: a title, an optional description and an optional action in the slot.
Component({
  properties: {
    title: { type: String, value: '暂无内容' },
    description: { type: String, value: '' },
  },
});
