/**
 * A strict little XML parser for tests: it throws on anything a real XML parser rejects that
 * SVG output can plausibly get wrong (unbalanced or misnested tags, unquoted or duplicate
 * attributes, bare `&` or `<` in text), and returns a tree to query.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Text directly inside this element, entities decoded. */
  text: string;
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const ENTITY = /&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/y;
const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

function decodeText(raw: string, where: number): string {
  let output = "";
  for (let index = 0; index < raw.length; index++) {
    const char = raw[index];
    if (char === "<") throw new SyntaxError(`bare '<' at ${where + index}`);
    if (char !== "&") {
      output += char;
      continue;
    }
    ENTITY.lastIndex = index;
    const match = ENTITY.exec(raw);
    if (!match) {
      throw new SyntaxError(`bare '&' at ${where + index}: ${raw.slice(index, index + 12)}`);
    }
    const body = match[1];
    output += body.startsWith("#x")
      ? String.fromCodePoint(parseInt(body.slice(2), 16))
      : body.startsWith("#")
      ? String.fromCodePoint(parseInt(body.slice(1), 10))
      : NAMED_ENTITIES[body];
    index += match[0].length - 1;
  }
  return output;
}

/** Parses a whole document; it must hold exactly one root element. */
export function parseXml(source: string): XmlElement {
  let position = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;

  const expect = (condition: boolean, message: string) => {
    if (!condition) throw new SyntaxError(`${message} at ${position}`);
  };
  const skipSpace = () => {
    while (/\s/.test(source[position] ?? "")) position++;
  };
  const readName = (): string => {
    NAME.lastIndex = position;
    const match = NAME.exec(source);
    expect(match !== null, "expected a name");
    position += match![0].length;
    return match![0];
  };

  while (position < source.length) {
    const next = source.indexOf("<", position);
    const textEnd = next === -1 ? source.length : next;
    const text = source.slice(position, textEnd);
    if (stack.length > 0) stack[stack.length - 1].text += decodeText(text, position);
    else expect(text.trim() === "", "text outside the root element");
    position = textEnd;
    if (next === -1) break;

    if (source.startsWith("<?", position)) {
      const end = source.indexOf("?>", position);
      expect(end !== -1, "unclosed processing instruction");
      position = end + 2;
    } else if (source.startsWith("<!--", position)) {
      const end = source.indexOf("-->", position);
      expect(end !== -1, "unclosed comment");
      position = end + 3;
    } else if (source.startsWith("<![CDATA[", position)) {
      const end = source.indexOf("]]>", position);
      expect(end !== -1 && stack.length > 0, "bad CDATA section");
      stack[stack.length - 1].text += source.slice(position + 9, end);
      position = end + 3;
    } else if (source.startsWith("</", position)) {
      position += 2;
      const name = readName();
      skipSpace();
      expect(source[position] === ">", "expected '>'");
      position++;
      const open = stack.pop();
      expect(open?.name === name, `</${name}> closes <${open?.name}>`);
      if (stack.length === 0) root = open!;
    } else {
      position++;
      expect(!(stack.length === 0 && root !== null), "second root element");
      const element: XmlElement = { name: readName(), attributes: {}, children: [], text: "" };
      for (;;) {
        const before = position;
        skipSpace();
        if (source.startsWith("/>", position)) {
          position += 2;
          if (stack.length > 0) stack[stack.length - 1].children.push(element);
          else root = element;
          break;
        }
        if (source[position] === ">") {
          position++;
          if (stack.length > 0) stack[stack.length - 1].children.push(element);
          stack.push(element);
          break;
        }
        expect(position > before, "attributes must be separated by space");
        const attribute = readName();
        expect(!(attribute in element.attributes), `duplicate attribute ${attribute}`);
        skipSpace();
        expect(source[position] === "=", `attribute ${attribute} without a value`);
        position++;
        skipSpace();
        const quote = source[position];
        expect(quote === '"' || quote === "'", `unquoted attribute ${attribute}`);
        const end = source.indexOf(quote, position + 1);
        expect(end !== -1, "unclosed attribute value");
        element.attributes[attribute] = decodeText(source.slice(position + 1, end), position + 1);
        position = end + 1;
      }
    }
  }
  if (stack.length > 0) throw new SyntaxError(`unclosed <${stack[stack.length - 1].name}>`);
  if (root === null) throw new SyntaxError("no root element");
  return root;
}

/** Every element in the tree, depth first, the root included. */
export function allElements(root: XmlElement): XmlElement[] {
  return [root, ...root.children.flatMap(allElements)];
}

/** All text inside an element and its descendants. */
export function textContent(element: XmlElement): string {
  return element.text + element.children.map(textContent).join("");
}
