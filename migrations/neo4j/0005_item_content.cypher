// What a practice screen needs of an item (issue 12, item 4): (:Item) gets prompt, choices
// (a list of strings; empty: a free answer), answers (the answer key), hints and explanation.
// Items written before get the empty values, so every item has the same properties.
MATCH (i:Item) WHERE i.prompt IS NULL
SET i.prompt = '', i.choices = [], i.answers = [], i.hints = [], i.explanation = '';
