/**
 * Words the example shop's rows are made of: names, places, categories with their
 * products, and the phrases of article descriptions.
 */

export const FIRST_NAMES = [
  'Anna',
  'Ben',
  'Carla',
  'David',
  'Elena',
  'Felix',
  'Grace',
  'Hugo',
  'Ines',
  'Jonas',
  'Karin',
  'Luca',
  'Maria',
  'Noah',
  'Olivia',
  'Paul',
  'Quinn',
  'Rosa',
  'Samuel',
  'Tara',
  'Umar',
  'Vera',
  'William',
  'Xenia',
  'Yusuf',
  'Zoe',
  'Amira',
  'Bruno',
  'Chloe',
  'Diego',
] as const;

export const LAST_NAMES = [
  'Adams',
  'Bauer',
  'Costa',
  'Dubois',
  'Evans',
  'Fischer',
  'Garcia',
  'Hansen',
  'Ivanova',
  'Jensen',
  'Kowalski',
  'Lopez',
  'Martin',
  'Novak',
  'Olsen',
  'Petrov',
  'Rossi',
  'Schmidt',
  'Taylor',
  'Urban',
  'Vogel',
  'Weber',
  'Young',
  'Zimmermann',
  'Nakamura',
  'Okafor',
] as const;

/** Cities with their country and relative population. */
export const CITIES = [
  ['Berlin', 'DE', 8],
  ['Hamburg', 'DE', 4],
  ['Munich', 'DE', 4],
  ['Paris', 'FR', 8],
  ['Lyon', 'FR', 3],
  ['Madrid', 'ES', 6],
  ['Barcelona', 'ES', 5],
  ['Rome', 'IT', 5],
  ['Milan', 'IT', 4],
  ['Amsterdam', 'NL', 4],
  ['Vienna', 'AT', 3],
  ['Warsaw', 'PL', 4],
  ['Lisbon', 'PT', 3],
  ['Copenhagen', 'DK', 2],
  ['Stockholm', 'SE', 3],
  ['Dublin', 'IE', 2],
] as const;

/** Categories: name, typical price in cents, products, and base daily units (scale 1). */
export const CATEGORIES = [
  {
    name: 'electronics',
    price: 12_000,
    units: 30,
    products: ['headphones', 'speaker', 'charger', 'smartwatch', 'camera', 'keyboard'],
  },
  {
    name: 'books',
    price: 1_800,
    units: 60,
    products: ['novel', 'cookbook', 'travel guide', 'biography', 'comic', 'atlas'],
  },
  {
    name: 'clothing',
    price: 4_500,
    units: 70,
    products: ['t-shirt', 'jacket', 'jeans', 'dress', 'sweater', 'scarf'],
  },
  {
    name: 'home',
    price: 3_500,
    units: 40,
    products: ['lamp', 'cushion', 'vase', 'blanket', 'mirror', 'rug'],
  },
  {
    name: 'kitchen',
    price: 2_800,
    units: 45,
    products: ['pan', 'knife set', 'kettle', 'mug', 'blender', 'cutting board'],
  },
  {
    name: 'sports',
    price: 5_000,
    units: 35,
    products: ['yoga mat', 'running shoes', 'water bottle', 'dumbbell', 'backpack', 'tent'],
  },
  {
    name: 'beauty',
    price: 2_200,
    units: 50,
    products: ['shampoo', 'face cream', 'perfume', 'lipstick', 'soap', 'sunscreen'],
  },
  {
    name: 'toys',
    price: 2_500,
    units: 40,
    products: ['puzzle', 'board game', 'teddy bear', 'building blocks', 'kite', 'doll'],
  },
] as const;

export const BRANDS = [
  'Nordlicht',
  'Aurora',
  'Castello',
  'Pinewood',
  'Vela',
  'Kestrel',
  'Solano',
  'Tundra',
] as const;
export const ADJECTIVES = [
  'Classic',
  'Compact',
  'Deluxe',
  'Eco',
  'Essential',
  'Premium',
  'Smart',
  'Urban',
  'Vintage',
  'Wireless',
] as const;
export const COLOURS = ['black', 'white', 'navy', 'olive', 'red', 'grey', 'sand', 'teal'] as const;
export const MATERIALS = [
  'recycled cotton',
  'aluminium',
  'oak',
  'stainless steel',
  'bamboo',
  'glass',
  'wool',
  'silicone',
] as const;

/** Sentences of article descriptions; `{x}` is replaced. */
export const DESCRIPTION_PHRASES = [
  'A {adjective} {product} in {colour}, made of {material}.',
  'Designed for everyday use and easy to clean.',
  'Ships in plastic-free packaging.',
  'Our best seller in {category} for three seasons.',
  'Light, sturdy and built to last.',
  'Comes with a two-year warranty.',
  'Pairs well with the rest of the {brand} range.',
  'Limited edition: once it is gone, it is gone.',
] as const;
